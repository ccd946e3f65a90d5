// One worker of a parallel campaign (parallel-campaign.ts): runs the blocks of seeds it is given
// and answers each with its campaign's result.
import { parentPort } from 'node:worker_threads';
import type { PlantedBug } from '@dpns/cluster-core';
import { runCampaign } from './campaign.js';

export interface BlockRequest {
  readonly from: number;
  readonly count: number;
  readonly plant: PlantedBug | undefined;
}

const port = parentPort;
if (port === null) throw new Error('campaign-worker.js runs only as a worker thread');
port.on('message', (b: BlockRequest) => {
  port.postMessage({ from: b.from, result: runCampaign(b.from, b.count, b.plant) });
});
