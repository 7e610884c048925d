/**
 * Trains a GPT-2-style byte-level BPE on the demo texts and emits the
 * tokenizer.json / tokenizer_config.json pair transformers.js loads. Every byte
 * has a base symbol, so any Unicode text encodes without an unknown token.
 */
import { BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS } from './demoModelConfig.ts';

/** GPT-2's reversible byte → printable-character table. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return table;
}

// The split the ByteLevel pre-tokenizer applies (GPT-2's pattern).
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface TrainedBpe {
  /** Token strings by id: specials, then the 256 byte symbols, then one per merge. */
  vocab: string[];
  merges: [string, string][];
}

export function trainByteLevelBpe(text: string, numMerges: number): TrainedBpe {
  const byteChar = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const piece of text.match(PRETOKENIZE) ?? []) {
    const mapped = Array.from(encoder.encode(piece), (b) => byteChar[b] as string).join('');
    wordCounts.set(mapped, (wordCounts.get(mapped) ?? 0) + 1);
  }
  // Sorted so the training order never depends on Map insertion details.
  const words = [...wordCounts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w, count]) => ({ symbols: Array.from(w), count }));

  const merges: [string, string][] = [];
  for (let m = 0; m < numMerges; m++) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [key, count] of pairCounts) {
      // Ties go to the smaller string so the result is independent of iteration order.
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    const joined = left + right;
    for (const word of words) {
      const out: string[] = [];
      const s = word.symbols;
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(joined);
          i++;
        } else {
          out.push(s[i] as string);
        }
      }
      word.symbols = out;
    }
  }
  const vocab = [
    SPECIAL_TOKENS.pad,
    SPECIAL_TOKENS.bos,
    SPECIAL_TOKENS.eos,
    ...byteChar,
    ...merges.map(([a, b]) => a + b),
  ];
  return { vocab, merges };
}

export function tokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  const specials = [
    [PAD_ID, SPECIAL_TOKENS.pad],
    [BOS_ID, SPECIAL_TOKENS.bos],
    [EOS_ID, SPECIAL_TOKENS.eos],
  ] as const;
  const vocab: Record<string, number> = {};
  bpe.vocab.forEach((token, id) => {
    vocab[token] = id;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([id, content]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    // Llama convention: <s> in front of every sequence, no </s> at the end.
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: SPECIAL_TOKENS.bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: SPECIAL_TOKENS.bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: SPECIAL_TOKENS.bos, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: {
        [SPECIAL_TOKENS.bos]: { id: SPECIAL_TOKENS.bos, ids: [BOS_ID], tokens: [SPECIAL_TOKENS.bos] },
      },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: bpe.merges,
    },
  };
}

export function tokenizerConfigJson(modelMaxLength: number): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const [id, content] of [
    [PAD_ID, SPECIAL_TOKENS.pad],
    [BOS_ID, SPECIAL_TOKENS.bos],
    [EOS_ID, SPECIAL_TOKENS.eos],
  ] as const) {
    decoder[String(id)] = {
      content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: decoder,
    bos_token: SPECIAL_TOKENS.bos,
    // Byte-level decoding is exact; the default clean-up would eat spaces before punctuation.
    clean_up_tokenization_spaces: false,
    eos_token: SPECIAL_TOKENS.eos,
    model_max_length: modelMaxLength,
    pad_token: SPECIAL_TOKENS.pad,
    // Left padding keeps the last position real, which generation and next-token scoring need.
    padding_side: 'left',
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: null,
  };
}
