// Globs over `/`-separated names, as model ids are written (`openai/gpt-4o`, `hf/meta/llama-guard`).
// One definition, so a contract's allow list and admission's catalog match the same ids.

/**
 * An anchored RegExp for `glob`: `*` matches within one `/` segment, `**` across segments,
 * `?` one character other than `/`; every other character is literal.
 */
export function segmentGlobRegExp(glob: string): RegExp {
  const cached = compiled.get(glob);
  if (cached) return cached;
  const re = compile(glob);
  // Globs come from contracts and catalogs: few and long-lived, so a small cache is enough.
  if (compiled.size >= 1024) compiled.clear();
  compiled.set(glob, re);
  return re;
}

const compiled = new Map<string, RegExp>();

function compile(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
