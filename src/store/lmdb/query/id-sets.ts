/**
 * Sets of run ids answered from index keys: the runs under some first elements of an index
 * (`[first, …, id]` keys), every record of a table, and the intersection of such sets. None
 * decodes a record to build itself; each reads the store when asked (`size`, `has`, iterating),
 * so a short page that asks `has` a few hundred times never builds a set of thousands of ids.
 */
import type { Key } from 'lmdb';
import { ROWS_PER_PAUSE, toEnd, type Sliced } from './slices.ts';

/** A set of run ids: a real Set, or one answered from an index without being materialized. */
export interface IdSet extends Iterable<string> {
  /**
   * How many ids it holds, for the planner's costs: exact for a Set, a table and the runs
   * under index prefixes a run is under at most one of; an upper bound otherwise.
   */
  readonly size: number;
  has(id: string): boolean;
  /**
   * Probes per id held past which building a Set beats probing on (`ProbedSet`): 1 when a
   * probe costs about what reading an id while building does, less when a probe reads a record.
   */
  readonly probesPerIdBeforeBuild?: number;
  /** Builds the set as a Set in slices, when the set has a better way than iterating itself. */
  build?(): Sliced<Set<string>>;
}

/** The index operations these sets use (every lmdb-js database has them). */
export interface KeyIndex {
  getKeys(options: { start?: Key; end?: Key }): Iterable<Key>;
  getKeysCount(options: { start?: Key; end?: Key }): number;
  doesExist(key: Key): boolean;
}

/** Every key `[first, id]` (ids are UUIDs, below U+FFFF). */
const under = (first: string) => ({ start: [first], end: [first, '\uffff'] });

/** Past this many prefixes, `has` reads the record once rather than probing every prefix. */
const PROBES = 8;

export interface UnderPrefixesOptions {
  /** Whether an id can be under only one of the prefixes (a run has one flow, one state). */
  disjoint: boolean;
  /** The number of ids under a prefix, when a counter holds it; else the index is counted. */
  count?: (first: string) => number;
  /** The prefixes an id's record puts it under (undefined when there is no record), for `has` with many prefixes. */
  firstsOf?: (id: string) => string[] | undefined;
}

/** The ids under any of some first elements of an index: `[first, id]` keys. */
export class UnderPrefixes implements IdSet {
  private readonly firsts: string[];
  private counted?: number;
  private wanted?: Set<string>;

  constructor(
    private readonly index: KeyIndex,
    firsts: Iterable<string>,
    private readonly options: UnderPrefixesOptions,
  ) {
    this.firsts = [...new Set(firsts)];
  }

  get size(): number {
    if (this.counted === undefined) {
      const { count } = this.options;
      this.counted = this.firsts.reduce((n, first) => n + (count ? count(first) : this.index.getKeysCount(under(first))), 0);
    }
    return this.counted;
  }

  has(id: string): boolean {
    const { firstsOf } = this.options;
    if (this.firsts.length > PROBES && firstsOf) {
      this.wanted ??= new Set(this.firsts);
      return firstsOf(id)?.some((first) => this.wanted!.has(first)) ?? false;
    }
    return this.firsts.some((first) => this.index.doesExist([first, id]));
  }

  *[Symbol.iterator](): Iterator<string> {
    const seen = this.options.disjoint || this.firsts.length < 2 ? undefined : new Set<string>();
    for (const first of this.firsts) {
      for (const key of this.index.getKeys(under(first))) {
        const id = (key as string[])[1];
        if (seen) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        yield id;
      }
    }
  }
}

/** Every key of a table whose keys are ids, sized by its counter. */
export class AllIds implements IdSet {
  constructor(
    private readonly table: { getKeys(options: object): Iterable<Key>; doesExist(key: Key): boolean },
    private readonly counter: () => number,
  ) {}
  get size(): number {
    return this.counter();
  }
  has(id: string): boolean {
    return this.table.doesExist(id);
  }
  *[Symbol.iterator](): Iterator<string> {
    for (const key of this.table.getKeys({})) yield key as string;
  }
}

/**
 * Ids in every one of `sets` that pass every test: iterates the smallest set and asks the
 * others. Its size is the smallest set's, an upper bound.
 */
export class Intersection implements IdSet {
  private readonly smallest: IdSet;
  private readonly others: IdSet[];
  constructor(
    sets: IdSet[],
    private readonly tests: ((id: string) => boolean)[] = [],
  ) {
    const ordered = bySize(sets);
    this.smallest = ordered[0];
    this.others = ordered.slice(1);
  }
  get size(): number {
    return this.smallest.size;
  }
  has(id: string): boolean {
    return this.smallest.has(id) && this.passes(id);
  }
  private passes(id: string): boolean {
    return this.others.every((set) => set.has(id)) && this.tests.every((test) => test(id));
  }
  *[Symbol.iterator](): Iterator<string> {
    for (const id of this.smallest) if (this.passes(id)) yield id;
  }
}

/** Smallest first (sizes are read once each). */
export function bySize(sets: IdSet[]): IdSet[] {
  return sets
    .map((set) => ({ set, size: set.size }))
    .sort((a, b) => a.size - b.size)
    .map(({ set }) => set);
}

/** A lazy intersection this small is cheaper to build once than to probe per artifact (and is then exact). */
export const BUILD_AT_MOST = 2048;

/**
 * The intersection of `sets` (at least one) filtered by `tests`: the set itself when it is one
 * with no test, a built Set when the smallest has at most `buildAtMost` ids, else a lazy
 * Intersection.
 */
export function intersect(sets: IdSet[], tests: ((id: string) => boolean)[] = [], buildAtMost = BUILD_AT_MOST): IdSet {
  if (sets.length === 1 && tests.length === 0) return sets[0];
  const lazy = new Intersection(sets, tests);
  return lazy.size <= buildAtMost ? new Set(lazy) : lazy;
}

/**
 * The ids of an index's keys `[value, id]` with `low ≤ value ≤ high` (a bound left undefined is
 * open): a time range over `flowRuns.byStartTime` and the like. Exact; its size is the range's
 * key count, counted natively. `has` reads the id's value from its record (`valueOf`), many
 * times the cost of reading an id off the range: once asked more than `probesPerIdBeforeBuild`
 * times per id it holds, a small range lists itself on the spot (a few milliseconds at most),
 * and a larger one is built by the query between its slices (`ProbedSet`). Iterating reads
 * the range again each time: whoever iterates it keeps what it needs (a 50k-id range kept here
 * as well would be one more copy of it for the whole query).
 */
export class InRange implements IdSet {
  readonly probesPerIdBeforeBuild = 0.05;
  private counted?: number;
  private built?: Set<string>;
  private reads = 0;

  constructor(
    private readonly index: KeyIndex,
    private readonly low: number | undefined,
    private readonly high: number | undefined,
    private readonly valueOf: (id: string) => number | null | undefined,
  ) {}

  private get empty(): boolean {
    return this.low !== undefined && this.high !== undefined && this.low > this.high;
  }

  /** A fresh options object per call (lmdb-js writes into the options it gets). */
  private range(): { start?: Key; end?: Key } {
    const range: { start?: Key; end?: Key } = {};
    if (this.low !== undefined) range.start = [this.low];
    if (this.high !== undefined) range.end = [this.high, '\uffff'];
    return range;
  }

  get size(): number {
    if (this.built) return this.built.size;
    this.counted ??= this.empty ? 0 : this.index.getKeysCount(this.range());
    return this.counted;
  }

  has(id: string): boolean {
    if (this.built) return this.built.has(id);
    if (++this.reads > this.size * this.probesPerIdBeforeBuild && this.size <= BUILD_IN_PLACE_AT_MOST) {
      this.built = new Set(this.keys());
      return this.built.has(id);
    }
    const value = this.valueOf(id);
    return value != null && (this.low === undefined || value >= this.low) && (this.high === undefined || value <= this.high);
  }

  private *keys(): Generator<string> {
    if (this.empty) return;
    for (const key of this.index.getKeys(this.range())) yield (key as Key[])[1] as string;
  }

  *[Symbol.iterator](): Iterator<string> {
    if (this.built) yield* this.built;
    else yield* this.keys();
  }
}

/**
 * The ids in any of `sets` (each once). Its size is the sum of theirs, an upper bound (exact
 * when they are disjoint).
 */
export class Union implements IdSet {
  private summed?: number;
  constructor(private readonly sets: IdSet[]) {}
  get size(): number {
    this.summed ??= this.sets.reduce((n, set) => n + set.size, 0);
    return this.summed;
  }
  has(id: string): boolean {
    return this.sets.some((set) => set.has(id));
  }
  *[Symbol.iterator](): Iterator<string> {
    if (this.sets.length === 1) {
      yield* this.sets[0];
      return;
    }
    const seen = new Set<string>();
    for (const set of this.sets) {
      for (const id of set) {
        if (seen.has(id)) continue;
        seen.add(id);
        yield id;
      }
    }
  }
}

/** The union of `sets`: one set as is, a built Set when their sizes add up to at most `buildAtMost`. */
export function unite(sets: IdSet[], buildAtMost = BUILD_AT_MOST): IdSet {
  if (sets.length === 1) return sets[0];
  const union = new Union(sets);
  return union.size <= buildAtMost ? new Set(union) : union;
}

/** The ids of `all` that are not in `minus` (a subset of it): its size is the difference, exact. */
export class Without implements IdSet {
  constructor(
    private readonly all: IdSet,
    private readonly minus: IdSet,
  ) {}
  get size(): number {
    return Math.max(0, this.all.size - this.minus.size);
  }
  has(id: string): boolean {
    return this.all.has(id) && !this.minus.has(id);
  }
  *[Symbol.iterator](): Iterator<string> {
    for (const id of this.all) if (!this.minus.has(id)) yield id;
  }
}

/** A range lists itself within one slice of work up to this many ids (`InRange.has`). */
export const BUILD_IN_PLACE_AT_MOST = 16_384;

/** A lazy set is built into a Set before a scan only up to this many ids (a few MiB at most). */
export const BUILD_FOR_PROBES_AT_MOST = 262_144;

/**
 * `set`, built into a Set first when it is about to be asked `has` `probes` times and building
 * costs less: a lazy set's `has` reads the store (one index probe per prefix, ~0.5–4 µs), a
 * Set's is a hash lookup, and building reads each id once. Built in slices, since a set worth
 * building for a scan may hold tens of thousands of ids.
 */
export function* builtForProbes(set: IdSet, probes: number): Sliced<IdSet> {
  if (set instanceof Set || set.size > BUILD_FOR_PROBES_AT_MOST) return set;
  if (set.size * (set.probesPerIdBeforeBuild ?? 1) >= probes) return set;
  if (set.build) return yield* set.build();
  const built = new Set<string>();
  for (const id of set) {
    built.add(id);
    if (built.size % ROWS_PER_PAUSE === 0) yield;
  }
  return built;
}

/**
 * A lazy set that notices when a query has probed it more than building it would cost (see
 * `probesPerIdBeforeBuild`): a walk whose matches sit far down the sort order probes its run
 * set once per row, and a Set answers those probes for a fraction of the price. The build is
 * sliced work that the query runs between two of its slices (`buildingWhenProbed`).
 */
export class ProbedSet implements IdSet {
  private probes = 0;
  private built?: Set<string>;
  constructor(readonly lazy: IdSet) {}
  get size(): number {
    return this.built ? this.built.size : this.lazy.size;
  }
  /** Probed past the point where building pays, and small enough to build. */
  get wantsBuild(): boolean {
    if (this.built) return false;
    const size = this.lazy.size;
    return size <= BUILD_FOR_PROBES_AT_MOST && this.probes > size * (this.lazy.probesPerIdBeforeBuild ?? 1);
  }
  has(id: string): boolean {
    if (this.built) return this.built.has(id);
    this.probes++;
    return this.lazy.has(id);
  }
  *build(): Sliced<Set<string>> {
    this.built ??= (yield* builtForProbes(this.lazy, Infinity)) as Set<string>;
    return this.built;
  }
  [Symbol.iterator](): Iterator<string> {
    return (this.built ?? this.lazy)[Symbol.iterator]();
  }
}

/** Lazy sets wrapped to be built once probed enough (Sets are left as they are). */
export function probed(set: IdSet): IdSet {
  return set instanceof Set || set instanceof ProbedSet ? set : new ProbedSet(set);
}

/**
 * Runs `work`, building any of `sets` that asks for it (`wantsBuild`) at the work's pause
 * points; closing the result closes `work` (its `finally` blocks run).
 */
export function* buildingWhenProbed<T>(work: Sliced<T>, sets: IdSet[]): Sliced<T> {
  const watched = sets.filter((set): set is ProbedSet => set instanceof ProbedSet);
  try {
    for (;;) {
      const step = work.next();
      if (step.done) return step.value;
      for (const set of watched) if (set.wantsBuild) yield* set.build();
      yield;
    }
  } finally {
    work.return(undefined as never);
  }
}

/**
 * The runs whose record passes a test, found lazily: `has` reads the run's record and tests it
 * (once per run: answers are kept), as SQL's EXISTS does per row; `build` runs the sliced scan
 * that finds them all (`find`: a `like_` over the name index's keys), and iterating runs it to
 * its end. Until found its size is unknown and reported as the table's, an upper bound: the
 * planner then walks the artifacts asking `has` of each row's run, which a short page of a
 * common pattern wants, and a query that asks too often builds it (`ProbedSet`).
 */
export class Tested implements IdSet {
  private readonly answers = new Map<string, boolean>();
  private found?: Set<string>;

  constructor(
    private readonly test: (id: string) => boolean,
    private readonly find: () => Sliced<IdSet>,
    private readonly upperBound: () => number,
  ) {}

  get size(): number {
    return this.found?.size ?? this.upperBound();
  }

  has(id: string): boolean {
    if (this.found) return this.found.has(id);
    let answer = this.answers.get(id);
    if (answer === undefined) {
      answer = this.test(id);
      this.answers.set(id, answer);
    }
    return answer;
  }

  *build(): Sliced<Set<string>> {
    if (!this.found) {
      const found = yield* this.find();
      this.found = found instanceof Set ? found : new Set(found);
    }
    return this.found;
  }

  [Symbol.iterator](): Iterator<string> {
    return (this.found ?? toEnd(this.build()))[Symbol.iterator]();
  }
}
