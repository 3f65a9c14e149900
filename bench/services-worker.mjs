// What the services suite's sandboxed tool runs in a worker thread, and what its
// raw piscina pool runs: plain JavaScript with no imports, so a worker loads it
// both from sources (tsx) and with `--built`, and fast. The in-process tool in
// services-tools.ts does the same work.

/** Pretends to send a message: trivially cheap, so the figures are the path, not the work. */
export function send(args) {
  return { sent: true, chars: args.to.length + args.body.length };
}

export default send;
