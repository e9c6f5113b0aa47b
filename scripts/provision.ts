/** The Node half of scripts/provision: the Keycloak distribution, the JDK, Chromium. */
import { provisionKeycloak, findJdk, KEYCLOAK_VERSION } from './lib/keycloak.js';
import { provisionJava } from './lib/java.js';
import { findChromium } from './lib/chromium.js';
import { formatError, say } from './lib/proc.js';
import { ensurePythonUpstream } from './lib/python-upstream.js';

const log = (m: string): void => say(`provision: ${m}`);
try {
  await provisionKeycloak(log);
  const jdk = await provisionJava(findJdk, { log });
  log(`java: Java ${jdk.major} at ${jdk.home} runs Keycloak ${KEYCLOAK_VERSION}`);
  log(`chromium: ${findChromium()}`);
  log(`python upstream (differential tests): ${ensurePythonUpstream(log).home}`);
  log('ready');
} catch (err) {
  process.stderr.write(`provision: ${formatError(err)}\n`);
  process.exit(1);
}
