// Converter benchmark: throughput against micromark's HTML output and showdown-confluence, scaling
// from 100 KiB to 1 MiB, and CommonMark match share. Run: pnpm --filter @minutes/markdown-storage bench
// Lines are printed as soon as each measurement ends; the last line is one JSON object.
import {
  commonmarkMatchShare,
  compareThroughput,
  convertMicromark,
  convertShowdown,
  convertStorage,
  generateProtocol,
  scalingRatio,
} from "./measure.js";

const corpus = generateProtocol(1024 * 1024);
const pages: Array<string> = [];
for (let start = 0; start < corpus.length; ) {
  const next = corpus.indexOf("\n## ", start + 16 * 1024);
  const end = next === -1 ? corpus.length : next + 1;
  pages.push(corpus.slice(start, end));
  start = end;
}
const fmt = (n: number | undefined): string => (n === undefined ? "n/a" : n.toFixed(3));
const row = (name: string, pagesMiBs: number, singleMiBs: number | undefined): void =>
  console.log(`| ${name.padEnd(22)} | ${fmt(pagesMiBs).padStart(12)} | ${fmt(singleMiBs).padStart(14)} |`);

console.log(`corpus: ${(Buffer.byteLength(corpus) / 1048576).toFixed(2)} MiB of generated meeting protocols`);
console.log(
  `"pages": the corpus as ${pages.length} documents of ~16 KiB; "1 doc": the corpus as one document`,
);
console.log("| converter              | MiB/s, pages | MiB/s, 1 doc   |");
console.log("|------------------------|--------------|----------------|");
const onPages = compareThroughput(
  { ours: convertStorage, micromark: convertMicromark, showdown: convertShowdown },
  pages,
);
// showdown-confluence is quadratic in document size (256 KiB took 18 s here), so only pages are timed.
const onOneDocument = compareThroughput({ ours: convertStorage, micromark: convertMicromark }, [corpus], 1);
const ours = { pages: onPages.ours ?? 0, single: onOneDocument.ours ?? 0 };
const micro = { pages: onPages.micromark ?? 0, single: onOneDocument.micromark ?? 0 };
const showdown = { pages: onPages.showdown ?? 0 };
row("markdownToStorage", ours.pages, ours.single);
row("micromark (HTML)", micro.pages, micro.single);
row("showdown-confluence", showdown.pages, undefined);
const scaling = scalingRatio(convertStorage);
const microScaling = scalingRatio(convertMicromark, 1);
console.log(
  `scaling time(1 MiB)/time(100 KiB) (linear = 10.24): ours ${scaling.toFixed(2)}, micromark ${microScaling.toFixed(2)}`,
);
const shareOurs = commonmarkMatchShare(convertStorage);
const shareShowdown = commonmarkMatchShare(convertShowdown);
console.log(
  `CommonMark/GFM match share: ours ${(shareOurs * 100).toFixed(1)} %, showdown ${(shareShowdown * 100).toFixed(1)} %`,
);
console.log(
  JSON.stringify({
    converter_vs_micromark: Number((ours.pages / micro.pages).toFixed(3)),
    converter_vs_micromark_single_document: Number((ours.single / micro.single).toFixed(3)),
    converter_vs_showdown: Number((ours.pages / showdown.pages).toFixed(3)),
    converter_scaling: Number(scaling.toFixed(2)),
    micromark_scaling: Number(microScaling.toFixed(2)),
    commonmark_match_ours: Number(shareOurs.toFixed(4)),
    commonmark_match_showdown: Number(shareShowdown.toFixed(4)),
  }),
);
