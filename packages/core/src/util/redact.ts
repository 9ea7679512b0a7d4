import { secretWeakness } from './secret-strength.js';

const MASK = '***';

/**
 * Replaces every secret in `text` with ***, also in the encoded forms a secret
 * takes inside URLs and JSON, so a message or log line never carries one.
 * Longer secrets go first so a secret containing another is masked whole.
 *
 * A weak secret (see secretWeakness: `backup`, `admin1`) is masked only where it
 * stands alone, not inside a longer word, name, id or path: masking it
 * everywhere would rewrite `matric-backup` and `backup_20261203_081023` and, by
 * the pattern of the stars, give the secret away. The config loader warns about
 * such secrets. `words` are the config's own names and paths (configWords):
 * a secret inside one of them is weak too.
 */
export function redact(text: string, secrets: Iterable<string>, words: readonly string[] = []): string {
  const forms = new Map<string, boolean>();
  for (const secret of secrets) {
    if (!secret) continue;
    const weak = secretWeakness(secret, words) !== undefined;
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      if (form) forms.set(form, (forms.get(form) ?? false) || weak);
    }
  }
  let out = text;
  for (const [form, weak] of [...forms].sort(([a], [b]) => b.length - a.length)) {
    out = weak ? out.replace(standalone(form), MASK) : out.split(form).join(MASK);
  }
  return out;
}

/**
 * `form` not glued to a word: no letter, digit, `_` or `-` on either side, no
 * `.` or `/` before it, and no `.` or `/` after it that continues a name
 * (`backup.yaml`, `backups/x`); sentence punctuation after it still counts as a
 * boundary, so "password backup." is masked.
 */
function standalone(form: string): RegExp {
  const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_\\-./])${escaped}(?![\\p{L}\\p{N}_\\-]|[./][\\p{L}\\p{N}_])`, 'gu');
}
