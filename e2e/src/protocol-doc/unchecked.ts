// The blocks of PROTOCOL.md that the conformance test deliberately does not replay, each named by
// its section and a snippet of its text, with the reason. Keep this list short: a block not
// listed here must be run by a section script (protocol-doc.test.ts fails otherwise).
import type { Unchecked } from './script.js';

export const UNCHECKED: readonly Unchecked[] = [
  {
    section: '5.10', match: '"proof":"478b3842',
    why: 'the same exchange as §11.3, where the test acts as the launched service (only it holds the ticket the proof needs)',
  },
  {
    section: '5.13', match: '"/demo/stubborn"',
    why: 'KILL_FAILED needs an agent that reports "killed":false after SIGKILL (a process in uninterruptible I/O); the real agent\'s SIGKILL always works here',
  },
  {
    section: '10.3', match: '"name":"/demo/stubborn","state":"failed"',
    why: 'the entry a KILL_FAILED leaves: as for §5.13\'s KILL_FAILED answer',
  },
  { section: '17.3', match: '"key":"<64 hex>"', why: 'a template with placeholders; the captured request after it is checked' },
  { section: '17.8', match: '"code":"<CODE>"', why: 'a template with placeholders; the captured refusals after it are checked' },
  {
    section: '19.3', match: '"cluster": {"sid": 1',
    why: 'a fragment of a backup\'s hello in a three-member cluster (the stand-alone hello of §3 is checked; the cluster e2e tests cover members)',
  },
  {
    section: '19.3', match: '"method":"cluster"',
    why: 'sent by a member of a three-member cluster when an election ends; e2e cluster-failover.test.ts kills a primary and checks both survivors\' notifications',
  },
  { section: '19.5', match: '"lastHeardMs"', why: 'the servers answer of a three-member cluster with one member away; needs a cluster' },
  {
    section: '19.8', match: '"method":"servers.add"',
    why: 'a change to a running cluster of three, with a joining server; e2e cluster-membership.test.ts makes these changes with real members and checks their answers',
  },
];
