// The busy loop shared by the engine runner and the raw piscina baseline, so
// both run exactly the same body. Returns the iteration count (a result that
// cannot be optimised away).
export function spin(ms) {
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) i++;
  return i;
}
