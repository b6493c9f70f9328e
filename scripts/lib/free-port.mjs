// A TCP port on 127.0.0.1 that nothing listens on right now, chosen by the kernel: tests and the
// benchmark serve on it, never on a fixed or guessed port another run on the machine may hold.
import { createServer } from 'node:net';

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => res(port));
    });
  });
}
