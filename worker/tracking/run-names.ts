/** MLflow-style random run names ("adjective-animal-123") for runs created without a name. */
const ADJECTIVES = [
  "agreeable", "bold", "brave", "bright", "calm", "capable", "clean", "clever", "colorful", "crisp",
  "curious", "dapper", "daring", "eager", "easy", "elegant", "fair", "fearless", "gentle", "glamorous",
  "honest", "humble", "jolly", "keen", "kind", "lucky", "merciful", "mighty", "nimble", "patient",
  "polite", "quiet", "rare", "resilient", "rogue", "rumbling", "sassy", "serious", "shy", "silent",
  "skillful", "smiling", "spiffy", "stately", "sunny", "thundering", "tranquil", "trusting", "unique", "wise",
];
const NOUNS = [
  "ant", "bass", "bat", "bear", "bee", "bird", "carp", "cat", "cod", "colt", "crab", "crane", "deer",
  "doe", "dove", "eel", "elk", "finch", "fish", "fly", "foal", "fox", "frog", "goat", "goose", "gull",
  "hare", "hawk", "hen", "hog", "horse", "jay", "kite", "lamb", "lark", "lynx", "mole", "moth", "mouse",
  "newt", "owl", "ox", "panda", "perch", "pig", "ram", "robin", "seal", "shark", "skunk", "slug", "snail",
  "sow", "squid", "stag", "stork", "swan", "tern", "toad", "trout", "whale", "wolf", "worm", "wren", "yak",
];

export function randomRunName(random: () => number = Math.random): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(random() * 1000)}`;
}
