"""Where papers come from: Hugging Face Daily Papers (`hf`), arXiv (`arxiv`), Daily Papers JSON files
(`files`) and the bundled sample (`sample`). Raw Hub records are parsed by `records.parse_daily_paper`.
Every failure is a `bot.errors.SourceError`."""
