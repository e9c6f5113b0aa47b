/**
 * Entry point of the Dify stand-in (test double, never shipped): reads the environment, builds the
 * API double (default 127.0.0.1:15001) and the console UI double (default 127.0.0.1:13000), and
 * listens. The only module that touches `process.env`.
 */
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { buildStandinApi } from './api.js';
import { buildStandinWeb } from './web.js';
import { loadStandinConfig, type StandinConfig } from './config.js';
import { parseSeed } from './lib/db.js';

function loggerOptions(level: string, name: string) {
  return {
    level,
    name,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'req.headers["x-csrf-token"]',
        'req.headers["x-standin-secret"]',
      ],
      remove: true,
    },
    serializers: {
      // never log query strings (tokens, invitation tokens and file signatures travel there)
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
    },
  };
}

async function main(): Promise<void> {
  let config: StandinConfig;
  try {
    config = loadStandinConfig(process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const seed = config.seedPath ? parseSeed(JSON.parse(await readFile(config.seedPath, 'utf8'))) : undefined;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const api = buildStandinApi({
    ...config.api,
    redis,
    ...(seed ? { seed } : {}),
    logger: loggerOptions(config.logLevel, 'dify-standin-api'),
  });
  api.addHook('onClose', async () => void (await redis.quit()));
  await api.listen(config.listen);
  api.log.info(
    { version: config.api.version, redisKeyPrefix: config.api.redisKeyPrefix || null },
    'dify stand-in api listening',
  );

  const web = config.webListen
    ? buildStandinWeb({
        ...config.web,
        ...(config.api.version ? { version: config.api.version } : {}),
        logger: loggerOptions(config.logLevel, 'dify-standin-web'),
      })
    : null;
  if (web && config.webListen) {
    await web.listen(config.webListen);
    web.log.info({ variant: config.web.variant }, 'dify stand-in web listening');
  }

  const stop = async () => {
    await Promise.allSettled([api.close(), web?.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

await main();
