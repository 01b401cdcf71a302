/**
 * File capabilities: the `security.capability` xattr (struct vfs_cap_data, linux/capability.h)
 * decoded and written the way getcap(8) writes it: `cap_net_raw+ep`.
 */

/** Capability numbers 0..40 (linux/capability.h). */
const NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
  'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
  'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
  'perfmon', 'bpf', 'checkpoint_restore',
];

const REVISION_MASK = 0xff000000;
const FLAG_EFFECTIVE = 0x000001;
/** Words of capability sets per revision: v1 has 32 bits, v2 and v3 64 (v3 adds the namespace's root uid). */
const WORDS: Record<number, number> = { 0x01000000: 1, 0x02000000: 2, 0x03000000: 2 };

/** getcap's text for the xattr's value, or null when it is not a vfs_cap_data it knows. */
export function capabilityText(value: Buffer): string | null {
  if (value.length < 4) return null;
  const magic = value.readUInt32LE(0);
  const words = WORDS[(magic & REVISION_MASK) >>> 0];
  if (!words || value.length < 4 + words * 8) return null;
  const effective = (magic & FLAG_EFFECTIVE) !== 0;
  const groups = new Map<string, string[]>();
  for (let w = 0; w < words; w++) {
    const permitted = value.readUInt32LE(4 + w * 8);
    const inheritable = value.readUInt32LE(8 + w * 8);
    for (let bit = 0; bit < 32; bit++) {
      const p = (permitted >>> bit) & 1;
      const i = (inheritable >>> bit) & 1;
      if (!p && !i) continue;
      const n = w * 32 + bit;
      const flags = `${effective ? 'e' : ''}${i ? 'i' : ''}${p ? 'p' : ''}`;
      const list = groups.get(flags) ?? [];
      list.push(`cap_${NAMES[n] ?? n}`);
      groups.set(flags, list);
    }
  }
  if (groups.size === 0) return '=';
  return [...groups].map(([flags, caps]) => `${caps.join(',')}+${flags}`).join(' ');
}
