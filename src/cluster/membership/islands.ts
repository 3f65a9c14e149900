// After a split brain that did happen anyway (asymmetric or flapping links can
// defeat any downing rule), two groups may each have downed the other: islands
// that no longer gossip. They meet again through the reconnect round (gossip to
// seeds and to removed members); then the losing island's members rejoin the
// winning one as new incarnations. The rule is symmetric, so both islands agree
// on the winner: more members counting for quorum, then the one holding the
// lowest address.

import { byAddress, countsForQuorum, type Member } from './member.js';

/** True when the island described by `theirs` wins over the one described by `ours`. */
export function islandWins(theirs: readonly Member[], ours: readonly Member[]): boolean {
  const a = theirs.filter((m) => countsForQuorum(m.status)).sort(byAddress);
  const b = ours.filter((m) => countsForQuorum(m.status)).sort(byAddress);
  if (a.length !== b.length) return a.length > b.length;
  const key = (xs: Member[]): string => xs.map((m) => `${m.address}\u0000${m.nodeId}\u0000${m.incarnation}`).join('\u0001');
  return key(a) < key(b);
}
