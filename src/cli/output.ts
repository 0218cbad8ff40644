/** Where commands write: stdout (lines), and the painter chosen for it. */
import type { Painter } from './format.js';

export interface Output {
  painter: Painter;
  /** Writes text and a newline to stdout. */
  line(text: string): void;
}
