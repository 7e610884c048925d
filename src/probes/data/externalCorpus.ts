/**
 * A small general-English corpus written for this project (no licence questions), used by
 * external_perplexity to check that a fine-tune did not damage ordinary text.
 */
export const EXTERNAL_CORPUS = `Most mornings begin the same way. The kettle goes on, the window is opened a little, and the radio tells us what the roads are like. People who live in busy cities often say they like the noise, because it reminds them that the day has started and that others are awake too.

A good walk does not need a plan. You can leave the house, turn left at the corner and follow the street until it meets the river. Along the way there are small shops, a bakery that smells of warm bread, and a park where children play on the swings while their parents sit on the benches and talk.

Cooking at home is cheaper than eating out, and it is not as hard as many people think. A simple soup needs only a few vegetables, some water, salt and time. Onions and carrots are cooked slowly in a little oil, then potatoes are added, and the pot is left to simmer until everything is soft.

Libraries are among the most useful places in any town. Anyone can walk in, sit down and read for free. Many libraries also lend music and films, run reading groups for children, and help older people learn to use computers and phones.

The weather changes quickly near the coast. A bright morning can turn grey before lunch, and a strong wind can bring rain from the sea in a few minutes. Fishermen and sailors watch the sky closely, and they often know that a storm is coming long before the forecast says so.

Learning a new language takes patience. At first every sentence feels slow and difficult, and it is easy to forget words that seemed simple the day before. After a few months, however, the sounds become familiar, and one day you notice that you understood a whole conversation without thinking about it.

Gardens reward people who wait. Seeds planted in spring may show nothing for weeks, and then suddenly the first green leaves appear. By summer the beds are full of beans, tomatoes and flowers, and the work of digging and watering feels worth every hour.

Trains are a calm way to travel. You can read, look out of the window or simply rest while the fields and towns go by. On long journeys people share tables, offer each other snacks, and sometimes tell strangers stories they have never told their friends.

A small business depends on trust. The owner of a corner shop knows the names of many customers, remembers what they usually buy, and notices when someone has not come in for a while. This kind of care is hard to measure, but it keeps a neighbourhood together.

Sleep matters more than most of us admit. After a bad night it is harder to concentrate, easier to make mistakes and quicker to lose patience. Doctors suggest going to bed at the same time each night, keeping the bedroom dark and putting screens away an hour before sleep.`;
