/** The `start|stop|status` command of a service run as a background daemon (pid file in the cache folder). */
import { daemonPid, formatError, say, stopDaemon } from './proc.js';

export interface DaemonCli {
  /** Pid-file name and the word in every message. */
  name: string;
  /** Where it answers, for messages. */
  where: string;
  /** Whether it answers now. */
  ready(): Promise<boolean>;
  /** Starts it as a daemon and waits until it answers. */
  start(): Promise<void>;
}

/** Runs `argv[0]` (default `status`); sets the exit code: 0 ok, 1 error, 2 usage, 3 down. */
export async function runDaemonCli(cli: DaemonCli, argv: readonly string[]): Promise<void> {
  const { name } = cli;
  try {
    switch (argv[0] ?? 'status') {
      case 'start':
        if (daemonPid(name) !== undefined && (await cli.ready())) {
          say(`${name}: already running (${cli.where})`);
          return;
        }
        await cli.start();
        say(`${name}: ready on ${cli.where}; stop with: npm run ${name} -- stop`);
        return;
      case 'stop':
        say((await stopDaemon(name)) ? `${name}: stopped` : `${name}: was not running`);
        return;
      case 'status': {
        const up = await cli.ready();
        say(up ? `${name}: up (${cli.where})` : `${name}: down`);
        process.exitCode = up ? 0 : 3;
        return;
      }
      default:
        say(`usage: npm run ${name} -- start|stop|status`);
        process.exitCode = 2;
    }
  } catch (err) {
    process.stderr.write(`${formatError(err)}\n`);
    process.exitCode = 1;
  }
}
