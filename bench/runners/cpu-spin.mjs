// Engine runner for bench/event-loop.mjs: a CPU-bound busy loop of `data.ms` milliseconds.
import { spin } from './cpu-spin-body.mjs';

export default ({ data }) => spin(data.ms);
