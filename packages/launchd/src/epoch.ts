// The highest name server epoch this agent has obeyed, kept in <stateDir>/epoch. A primary that
// was replaced (and may not know it yet) has a lower epoch; its requests are refused, so two name
// servers cannot both drive the agent.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileDurably } from '@dpns/node-kit';
import { Serial } from './serial.js';
import { AgentError } from './wire.js';

export class EpochStore {
  private readonly serial = new Serial();

  private constructor(
    readonly path: string,
    private highest: number,
  ) {}

  static async open(stateDir: string): Promise<EpochStore> {
    const path = join(stateDir, 'epoch');
    let text: string | undefined;
    try {
      text = (await readFile(path, 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined && !/^\d{1,15}$/.test(text)) {
      throw new Error(`epoch file ${path} does not hold a whole number (it holds ${JSON.stringify(text.slice(0, 40))}); fix it or delete it to accept any epoch again`);
    }
    return new EpochStore(path, text === undefined ? 0 : Number(text));
  }

  get current(): number {
    return this.highest;
  }

  /** Accepts `epoch` if it is not lower than any seen, persisting a new highest before it is acted on. */
  admit(epoch: number): Promise<void> {
    return this.serial.run(async () => {
      if (epoch < this.highest) {
        throw new AgentError('STALE_EPOCH', `epoch ${epoch} is older than epoch ${this.highest} already seen by this agent; this name server is no longer the primary`);
      }
      if (epoch > this.highest) {
        await replaceFileDurably(this.path, `${epoch}\n`);
        this.highest = epoch;
      }
    });
  }
}
