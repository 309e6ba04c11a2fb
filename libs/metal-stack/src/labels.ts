// Machine tags as Kubernetes labels: only `key=value` tags whose key and value are valid label keys and
// values cross over (metal-api tags are free text).

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf("/");
  const name = slash < 0 ? k : k.slice(slash + 1);
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  if (!LABEL_NAME.test(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}

export function isLabelValue(v: string): boolean {
  return v === "" || LABEL_NAME.test(v);
}

/** Machine tags as node labels: `k=v` tags whose key and value are valid label keys and values. */
export function tagsToLabels(tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) {
    const i = t.indexOf("=");
    if (i <= 0) continue;
    const k = t.slice(0, i);
    const v = t.slice(i + 1);
    if (isLabelKey(k) && isLabelValue(v)) out[k] = v;
  }
  return out;
}
