/** Prefect-style run names: two random words, e.g. "amber-heron", when a client gives none. */

const ADJECTIVES = [
  'amber', 'bold', 'brisk', 'calm', 'clever', 'crimson', 'dapper', 'eager', 'fancy', 'gentle',
  'golden', 'hasty', 'icy', 'jolly', 'keen', 'lively', 'lucky', 'merry', 'misty', 'nimble',
  'olive', 'proud', 'quiet', 'rapid', 'rustic', 'sandy', 'shiny', 'silver', 'steady', 'swift',
  'tidy', 'vivid', 'warm', 'witty', 'zesty', 'azure', 'cosmic', 'daring', 'frosty', 'polite',
];
const ANIMALS = [
  'otter', 'heron', 'lynx', 'falcon', 'badger', 'beaver', 'bison', 'crane', 'dingo', 'eagle',
  'ferret', 'gecko', 'hare', 'ibis', 'jackal', 'koala', 'lemur', 'marmot', 'newt', 'ocelot',
  'panda', 'quail', 'raven', 'salmon', 'tapir', 'urchin', 'viper', 'walrus', 'yak', 'zebra',
  'clam', 'finch', 'moose', 'owl', 'puffin', 'seal', 'toad', 'wombat', 'wolf', 'mantis',
];

const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)];

export function randomRunName(): string {
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
}
