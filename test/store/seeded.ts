/** A seeded random source for the plan tests of both backends: a failing seed replays (printed by each test). */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  /** A random subset (possibly empty) of `items`, in random order. */
  const some = <T>(items: readonly T[], max = items.length): T[] => {
    const copy = [...items];
    const out: T[] = [];
    const n = int(Math.min(max, copy.length) + 1);
    for (let i = 0; i < n; i++) out.push(copy.splice(int(copy.length), 1)[0]);
    return out;
  };
  return { next, int, pick, chance, some };
}

/** The seed of a run: ARTIFACTD_TEST_SEED, or a fresh one. */
export const testSeed = () => Number(process.env.ARTIFACTD_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
