const MASK = '***';

/**
 * Replaces every secret in `text` with ***, also in the encoded forms a secret
 * takes inside URLs and JSON, so a message or log line never carries one.
 * Longer secrets go first so a secret containing another is masked whole.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form) out = out.split(form).join(MASK);
  }
  return out;
}
