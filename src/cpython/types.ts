// The type table: every ready type of the interpreter, as the heap record lists them, with what
// the walkers need per type (sizes, the bytes before an object, its kind) in dense arrays indexed
// by the type's position, found by the type object's address.
import type { RawHeap, RawType } from '../model/raw.js';
import { AddressIndex } from '../base/address-index.js';

/** What the walkers treat specially, by layout. */
export const enum Kind {
  Plain = 0,
  Str = 1,
  VarSized = 2,
  List = 3,
  Dict = 4,
  Set = 5,
  ByteArray = 6,
  Int = 7,
  Tuple = 8,
  Cell = 9,
  Module = 10,
}

export class TypeTable {
  readonly index: AddressIndex;
  readonly names: string[] = [];
  readonly modules: (string | null)[] = [];
  readonly address: Float64Array;
  readonly basicsize: Float64Array;
  readonly itemsize: Float64Array;
  /** Bytes before the object: the GC head, and the managed pre-header before it. */
  readonly pre: Int32Array;
  /** The distinct values of `pre`, ascending: where an object can start in its block. */
  readonly preCandidates: number[];
  readonly kind: Uint8Array;
  /** 1 when an object's size never changes after allocation (var-sized ones may be reallocated). */
  readonly fixed: Uint8Array;
  /** Bytes of an instance's values array (plain classes with managed dicts), 0 for other types. */
  readonly valuesSize: Float64Array;
  /** Attribute slots of that values array. */
  readonly valuesCount: Float64Array;
  /** Heap types: the collector's traverse of an instance visits its type too. */
  readonly heapType: Uint8Array;
  /** Instances carry the managed pre-header (their dict and values pointers live there). */
  readonly managed: Uint8Array;
  /** Instances keep their values inline, after the object (valuesSize bytes of it). */
  readonly inline: Uint8Array;
  readonly dictoffset: Float64Array;
  readonly slots: number[][] = [];
  /** 2.7: the index of `instance` (-1 elsewhere), where its instances name their class, and the classes' rows. */
  readonly instanceType: number = -1;
  readonly classOffset: number = 0;
  private readonly classes: AddressIndex | null = null;
  private readonly firstClass: number = 0;
  private readonly typeOffset: number;

  constructor(heap: RawHeap) {
    // Old-style classes (2.7) come after the types, as types of their own that share `instance`'s
    // layout: the census and the collector's graph count their instances by class.
    const old = heap.old_style ?? null;
    const instance = old ? heap.types.find((t) => t.address === old.instance_type) : undefined;
    const classes = instance && old ? old.classes : [];
    const all: RawType[] = [...heap.types, ...classes.map((c) => ({ ...instance!, name: c.name, module: c.module }))];
    const n = all.length;
    this.typeOffset = heap.object.type;
    this.address = Float64Array.from(all, (t) => t.address);
    this.basicsize = new Float64Array(n);
    this.itemsize = new Float64Array(n);
    this.pre = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.fixed = new Uint8Array(n);
    this.valuesSize = new Float64Array(n);
    this.valuesCount = new Float64Array(n);
    this.heapType = new Uint8Array(n);
    this.managed = new Uint8Array(n);
    this.inline = new Uint8Array(n);
    const values = heap.managed.values;
    // Only PEP 393 strs grow in place; 2.7's unicode object has a fixed size and a separate buffer.
    const strGrows = heap.str.format === 'pep393';
    this.dictoffset = new Float64Array(n);
    const f = heap.flags;
    this.index = new AddressIndex(heap.types.map((t) => t.address));
    all.forEach((t, i) => {
      this.names.push(t.name);
      this.modules.push(t.module);
      this.basicsize[i] = t.basicsize;
      this.itemsize[i] = t.itemsize;
      const gc = t.flags & f.have_gc ? heap.gc_head_size : 0;
      this.managed[i] = gc && t.flags & heap.managed.flags ? 1 : 0;
      this.pre[i] = this.managed[i] ? gc + heap.managed.pre_header_size : gc;
      this.kind[i] = kindOf(t, heap);
      this.valuesSize[i] = t.values_size ?? 0;
      this.valuesCount[i] = t.values_count ?? 0;
      this.inline[i] = values?.kind === 'inline' && t.flags & values.flags && this.valuesSize[i] > 0 ? 1 : 0;
      this.fixed[i] = t.itemsize !== 0 || (this.kind[i] === Kind.Str && strGrows) ? 0 : 1;
      this.heapType[i] = t.flags & f.heaptype ? 1 : 0;
      this.dictoffset[i] = t.dictoffset ?? 0;
      this.slots.push(t.slots ?? []);
    });
    this.preCandidates = [...new Set(this.pre)].sort((a, b) => a - b);
    if (instance && old) {
      this.instanceType = heap.types.indexOf(instance);
      this.classOffset = old.class_offset;
      this.classes = new AddressIndex(classes.map((c) => c.address));
      this.firstClass = heap.types.length;
    }
  }

  /**
   * The row of the object at `o`, its words read through `read` (-1 where the core lacks them):
   * its type's, or for a 2.7 old-style instance its class's. -1 when the type is not in the table.
   */
  rowOf(read: (addr: number) => number, o: number): number {
    const tp = read(o + this.typeOffset);
    const ti = tp < 0 ? -1 : this.index.getNumber(tp);
    return ti >= 0 && ti === this.instanceType ? this.classOf(read(o + this.classOffset)) : ti;
  }

  /** The row of an `instance` whose in_class is `cls`: its class's, when the class is known. */
  classOf(cls: number): number {
    const k = this.classes ? this.classes.getNumber(cls) : -1;
    return k >= 0 ? this.firstClass + k : this.instanceType;
  }

  get length(): number {
    return this.names.length;
  }

  /** The index of the builtin type of that name, or -1. */
  builtin(name: string): number {
    return this.names.findIndex((n, i) => n === name && this.modules[i] === null);
  }
}

function kindOf(t: RawType, heap: RawHeap): Kind {
  const f = heap.flags;
  const builtin = t.module === null;
  if (t.flags & f.unicode_subclass) return Kind.Str;
  if (t.flags & f.long_subclass) return Kind.Int;
  if (t.flags & f.list_subclass) return Kind.List;
  if (t.flags & f.tuple_subclass) return Kind.Tuple;
  if (builtin && t.name === 'cell') return Kind.Cell;
  if (builtin && t.name === 'module') return Kind.Module;
  if (t.flags & f.dict_subclass) return Kind.Dict;
  if (builtin && (t.name === 'set' || t.name === 'frozenset')) return Kind.Set;
  if (builtin && t.name === 'bytearray') return Kind.ByteArray;
  return t.itemsize !== 0 ? Kind.VarSized : Kind.Plain;
}
