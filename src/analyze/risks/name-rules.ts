/**
 * Secrets by file name: files whose very presence is the finding (a private key, a credential
 * store, a shell history), whatever their content. Empty files are not reported.
 */
export interface BuiltinNameRule {
  id: string;
  description: string;
  /** Globs (src/util/glob.ts): a base name, or anchored at the root. */
  paths: string[];
}

export const NAME_RULES: BuiltinNameRule[] = [
  { id: 'ssh-key-file', description: 'SSH private key file', paths: ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk', 'ssh_host_*_key'] },
  { id: 'netrc-file', description: '.netrc (logins for ftp, curl, git)', paths: ['.netrc', '_netrc'] },
  { id: 'pypirc-file', description: '.pypirc (PyPI upload login)', paths: ['.pypirc'] },
  { id: 'git-credentials-file', description: 'git credential store', paths: ['.git-credentials'] },
  { id: 'aws-credentials-file', description: 'AWS credentials file', paths: ['**/.aws/credentials'] },
  { id: 'kubeconfig-file', description: 'Kubernetes client config', paths: ['**/.kube/config'] },
  {
    id: 'shell-history',
    description: 'shell or REPL history (may hold typed passwords and tokens)',
    paths: ['.bash_history', '.zsh_history', '.ash_history', '.sh_history', '.ksh_history', '.history', 'fish_history', '.python_history', '.node_repl_history', '.psql_history', '.mysql_history', '.sqlite_history', '.rediscli_history'],
  },
];
