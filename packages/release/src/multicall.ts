// The entry point of the single binary: the one script `pnpm package` bundles into it. It picks
// the program (dispatch.ts) and loads only that one's code: each is imported when chosen, so a
// module host, under Node's permission model, runs none of the name server's start-up code.
import { chooseCommand, type Chosen } from './dispatch.js';

async function run(chosen: Exclude<Chosen, { usage: string }>): Promise<number> {
  switch (chosen.command) {
    case 'dpns':
      return (await import('@dpns/client/cli')).main(chosen.args);
    case 'dpns-nameserver':
      return (await import('@dpns/nameserver/main')).main(chosen.args);
    case 'dpns-launchd':
      return (await import('@dpns/launchd/main')).main(chosen.args);
    case 'dpns-module-host':
      // It runs until the name server stops it or closes its pipe, and exits by itself.
      await import('@dpns/nameserver/module-host');
      return 0;
    default: {
      const never: never = chosen.command;
      return never;
    }
  }
}

const chosen = chooseCommand(process.argv);
if ('usage' in chosen) {
  process.stderr.write(chosen.usage);
  process.exitCode = 2;
} else {
  run(chosen).then(
    (code) => {
      // The module host sets no code of its own: it exits through process.exit.
      if (chosen.command !== 'dpns-module-host') process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${chosen.command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
