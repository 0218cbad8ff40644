// Trivial runner: the dispatch floor.
export default ({ data }) => data + 1;
