"""Tokenizers for hyperword corpora: train sentencepiece from corpus shards
(:func:`train_tokenizer`) and measure how it segments fused words (:func:`tokenizer_report`)."""

from hyperword.tokenizer.report import CorpusReport, LexiconReport, TokenizerReport, format_table, tokenizer_report
from hyperword.tokenizer.train import META_FILE, CorpusSample, TrainOptions, TrainResult, train_tokenizer

__all__ = [
    "META_FILE",
    "CorpusReport",
    "CorpusSample",
    "LexiconReport",
    "TokenizerReport",
    "TrainOptions",
    "TrainResult",
    "format_table",
    "tokenizer_report",
    "train_tokenizer",
]
