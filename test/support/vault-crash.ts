// Run by test/unit/vault.test.ts in a child process: `node --import tsx vault-crash.ts <dir> <vaultId>`
// with VAULT_KEY and VAULT_SECRET in the environment. Starts a put and SIGKILLs itself after the new
// version's temp file is written and synced, before it is published: a crash at the worst moment.
import { createLocalVault } from '../../connectors/vault/local.js';
import { loadVaultKeys } from '../../connectors/vault/vault-keys.js';

const [dir, vaultId] = process.argv.slice(2);
if (!dir || !vaultId) throw new Error('usage: vault-crash.ts <dir> <vaultId>');
const vault = createLocalVault(dir, await loadVaultKeys(dir, process.env.VAULT_KEY), {
  beforePublish: () => {
    process.kill(process.pid, 'SIGKILL');
  },
});
await vault.put(vaultId, process.env.VAULT_SECRET ?? '');
// Reached only if the hook did not run: the parent sees exit code 3 instead of SIGKILL.
process.exit(3);
