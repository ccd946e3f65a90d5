// The hello of each connection: a fresh X25519 box key, signed by the agent's identity. Making
// one costs a key pair and an Ed25519 signature (about 4 ms in tweetnacl), so the next one is made
// ahead, while the agent is idle, and a new connection gets its hello at once. Each is used once.
import { newBoxKeyPair, signAgentHello, type AgentHello, type BoxKeyPair, type SigningKey } from './wire.js';

export interface PreparedHello {
  box: BoxKeyPair;
  hello: AgentHello;
}

export class HelloMaker {
  private next: PreparedHello | undefined;
  private pending: NodeJS.Immediate | undefined;

  constructor(
    private readonly identity: SigningKey,
    private readonly host: string,
    private readonly version: string,
  ) {}

  /** A hello no other connection has had. */
  take(): PreparedHello {
    const prepared = this.next ?? this.make();
    this.next = undefined;
    this.pending ??= setImmediate(() => {
      this.pending = undefined;
      this.next ??= this.make();
    });
    return prepared;
  }

  stop(): void {
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = undefined;
    this.next = undefined;
  }

  private make(): PreparedHello {
    const box = newBoxKeyPair();
    return { box, hello: signAgentHello(this.identity, box.publicKey, this.host, this.version) };
  }
}
