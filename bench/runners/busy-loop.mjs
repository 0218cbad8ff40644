// A runaway loop that never yields; posts nothing.
export default () => {
  for (;;) {}
};
