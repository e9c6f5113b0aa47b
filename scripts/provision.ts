/** The Node half of scripts/provision: the Keycloak distribution, the JDK, Chromium, the Python upstream, helm + kubeconform. */
import { provisionKeycloak, findJdk, KEYCLOAK_VERSION } from './lib/keycloak.js';
import { provisionJava } from './lib/java.js';
import { findChromium } from './lib/chromium.js';
import { formatError, say } from './lib/proc.js';
import { ensurePythonUpstream } from './lib/python-upstream.js';
import { ensureK8sTools } from './lib/k8s-tools.js';

const log = (m: string): void => say(`provision: ${m}`);
try {
  await provisionKeycloak(log);
  const jdk = await provisionJava(findJdk, { log });
  log(`java: Java ${jdk.major} at ${jdk.home} runs Keycloak ${KEYCLOAK_VERSION}`);
  log(`chromium: ${findChromium()}`);
  log(`python upstream (differential tests): ${ensurePythonUpstream(log).home}`);
  const k8s = ensureK8sTools(log);
  log(`helm chart checks: ${k8s.helm}, ${k8s.kubeconform}, schemas in ${k8s.schemas}`);
  log('ready');
} catch (err) {
  process.stderr.write(`provision: ${formatError(err)}\n`);
  process.exit(1);
}
