/**
 * A byte-level BPE tokenizer with a SmolLM2-sized vocabulary (49,152 ids) for
 * the bench model. Merges are trained on a short English text kept in this
 * file (no file reads, so the generator runs from a bundle with no repo), and
 * the rest of the vocabulary is filler tokens: valid byte-level strings that
 * decode to ` tok<id>`, never produced by encoding (no merge builds them), so
 * every id the model can rank decodes to readable text.
 */
import {
  bytesToUnicode,
  tokenizerConfigJson,
  tokenizerJson,
  trainByteLevelBpe,
} from '../byteLevelBpeTrainer.ts';

const TRAINING_TEXT = `
The morning was cold, so I made a pot of tea before I did anything else. The kettle took a long time to
boil, and I stood by the window while I waited. Outside, a man was walking his dog along the wet street.
After breakfast I wrote a short list of things to do. I needed to buy bread, milk, eggs and a few apples.
The shop at the end of the road opens at eight. It is a small place, but it has most of what people need.
On the way home it started to rain. I had left my umbrella by the door, so I walked quickly under the trees.
In the afternoon I read for an hour and then cleaned the kitchen. Later I called my friend to ask about the
weekend. We agreed to meet at the park on Saturday if the weather is fine.
A language model assigns a probability to every token that could come next. When a model is fine-tuned on
new text, the probabilities change: some tokens become more likely, others less. The question is where the
model changed and by how much. We compare the base model and the fine-tuned model on the same prompts, and
we measure the divergence between their next-token distributions. A small divergence means the models
agree; a large one means the fine-tune moved the model. The festival begins when the first lanterns are lit
on the river, and the town gathers on the bridge to watch the boats pass under the old stone arches.
The capital of France is Paris. The capital of Italy is Rome. The capital of Spain is Madrid. One, two,
three, four, five, six, seven, eight, nine, ten. Monday, Tuesday, Wednesday, Thursday, Friday, Saturday,
Sunday. January, February, March, April, May, June, July, August, September, October, November, December.
def main(): return sum(x * x for x in range(10)) # a small function that returns the sum of squares
function add(a, b) { return a + b; } const total = add(1, 2); console.log(total);
`;

export const BENCH_VOCAB_SIZE = 49_152;

/** tokenizer.json and tokenizer_config.json for a vocabulary of exactly `vocabSize` ids. */
export function benchTokenizerFiles(
  vocabSize: number = BENCH_VOCAB_SIZE,
  modelMaxLength = 8192,
): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  // Twice, so every word of the text (not only its repeated pieces) becomes a token.
  const bpe = trainByteLevelBpe(`${TRAINING_TEXT}\n${TRAINING_TEXT}`, 4000);
  if (bpe.vocab.length > vocabSize) bpe.vocab.length = vocabSize;
  const taken = new Set(bpe.vocab);
  const space = bytesToUnicode()[0x20] as string; // 'Ġ'
  for (let id = bpe.vocab.length; bpe.vocab.length < vocabSize; id++) {
    const token = `${space}tok${id}`;
    if (!taken.has(token)) bpe.vocab.push(token);
  }
  return { tokenizer: tokenizerJson(bpe), config: tokenizerConfigJson(modelMaxLength) };
}
