// Runners for bench/drain.mjs, as named exports of one module, so that the
// warm-up tasks load and warm the module of the drained tasks on both threads.
import { BroadcastChannel } from 'node:worker_threads';

/**
 * Holds its thread until the main thread says 'go' on the BroadcastChannel
 * `data.channel`, after saying 'ready' on it.
 */
export async function gate({ data }) {
  const channel = new BroadcastChannel(data.channel);
  try {
    await new Promise((resolve) => {
      channel.onmessage = (event) => {
        if (event.data === 'go') resolve();
      };
      channel.postMessage('ready');
    });
  } finally {
    channel.close();
  }
  return null;
}

/** The trivial drained task. */
export function addOne({ data }) {
  return data + 1;
}
