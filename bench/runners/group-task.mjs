// Trivial runner for bench/conditions.mjs: its data is { n, group }.
export default ({ data }) => data.n + 1;
