// The CI gate: --fail-on-growth limits, checked against a diff. A limit is a relative growth
// ("20%"), an absolute one ("50MB"), or either for one type ("OrderRecord:10%", "dict:+5000"
// objects, "bytes:20MB"). Without a type, a limit applies to the process's writable memory (or, when
// a dump has no memory accounting, to its Python objects).
import { CoronerError } from '../base/errors.js';
import { humanBytes, parseSize, typeName } from '../base/units.js';
import type { DumpDiff } from './diff.js';

export interface GateLimit {
  spec: string;
  type: string | null;
  percent: number | null;
  bytes: number | null;
  count: number | null;
}

export interface GateCheck {
  spec: string;
  what: string;
  a: number;
  b: number;
  tripped: boolean;
  reason: string;
}

export function parseLimits(specs: string[]): GateLimit[] {
  return specs.flatMap((s) => s.split(',')).map((raw) => raw.trim()).filter(Boolean).map((spec) => {
    const colon = spec.lastIndexOf(':');
    const type = colon > 0 ? spec.slice(0, colon) : null;
    const value = colon > 0 ? spec.slice(colon + 1) : spec;
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
    if (percent) return { spec, type, percent: Number(percent[1]), bytes: null, count: null };
    const count = /^\+(\d+)$/.exec(value);
    if (count && type) return { spec, type, percent: null, bytes: null, count: Number(count[1]) };
    const bytes = parseSize(value);
    if (bytes !== null) return { spec, type, percent: null, bytes, count: null };
    throw new CoronerError(
      `--fail-on-growth ${spec}: not a limit; give a percentage (20%), a size (50MB), or either for one type (OrderRecord:10%, dict:+5000 objects)`,
      'usage',
    );
  });
}

function check(spec: string, what: string, a: number, b: number, limit: GateLimit, unit: (n: number) => string): GateCheck {
  const delta = b - a;
  let tripped: boolean;
  let bound: string;
  if (limit.percent !== null) {
    tripped = delta > 0 && (a === 0 || (100 * delta) / a > limit.percent);
    bound = `${limit.percent}%`;
  } else {
    const max = limit.bytes ?? limit.count ?? 0;
    tripped = delta > max;
    bound = unit(max);
  }
  const growth = a > 0 ? ` (${delta >= 0 ? '+' : ''}${((100 * delta) / a).toFixed(1)}%)` : '';
  const reason = `${what} grew from ${unit(a)} to ${unit(b)}: ${delta >= 0 ? '+' : ''}${unit(delta)}${growth}, limit ${bound}`;
  return { spec, what, a, b, tripped, reason };
}

const objects = (n: number): string => `${n.toLocaleString('en-US')} objects`;

export function applyGate(diff: DumpDiff, limits: GateLimit[]): GateCheck[] {
  return limits.map((limit) => {
    if (limit.type === null) {
      const writable = diff.memory.find((m) => m.kind === 'writable');
      const total = writable ?? diff.memory.find((m) => m.kind === 'census')!;
      return check(limit.spec, writable ? 'writable memory' : 'Python objects', total.a, total.b, limit, humanBytes);
    }
    const name = limit.type;
    const rows = diff.types.filter((t) => t.type === name || typeName(t) === name);
    const a = rows.reduce((n, t) => n + (limit.count !== null ? t.countA : t.bytesA), 0);
    const b = rows.reduce((n, t) => n + (limit.count !== null ? t.countB : t.bytesB), 0);
    return check(limit.spec, name, a, b, limit, limit.count !== null ? objects : humanBytes);
  });
}
