// Raw piscina baseline for bench/event-loop.mjs: piscina passes the task (the duration in ms) itself.
import { spin } from './cpu-spin-body.mjs';

export default (ms) => spin(ms);
