"""ML acronyms that the topic query language expands both ways.

A query word that is one of these acronyms also matches its expansion, and a query phrase that contains an
expansion also matches the acronym: `moe` finds "mixture of experts", `"mixture of experts"` finds "MoE",
and `"sparse moe"` finds "sparse mixture-of-experts". Plurals come free from stemming (`LLMs` = `LLM`).

Expansions are written as papers usually spell them; hyphens are significant only in that a hyphenated
expansion also matches its joined form (`fine-tuning` matches "fine tuning", "fine-tuning" and
"finetuning"). Entries are deliberately few and unambiguous inside ML: an acronym that is also an ordinary
word (e.g. `RAG` is fine, `ICL` is fine, but `ARE`, `IT`, `SAM` are not) would make every query on it noisy.
Author fields are never expanded. Keys are case-insensitive.
"""

from __future__ import annotations

ACRONYMS: dict[str, str] = {
    "moe": "mixture-of-experts",
    "llm": "large language model",
    "vlm": "vision-language model",
    "mllm": "multimodal large language model",
    "rl": "reinforcement learning",
    "rlhf": "reinforcement learning from human feedback",
    "dpo": "direct preference optimization",
    "rag": "retrieval-augmented generation",
    "gnn": "graph neural network",
    "vit": "vision transformer",
    "nerf": "neural radiance field",
    "sft": "supervised fine-tuning",
    "cot": "chain-of-thought",
    "kd": "knowledge distillation",
    "lora": "low-rank adaptation",
    "gan": "generative adversarial network",
    "vae": "variational autoencoder",
    "asr": "automatic speech recognition",
    "tts": "text-to-speech",
    "ocr": "optical character recognition",
    "nlp": "natural language processing",
    "peft": "parameter-efficient fine-tuning",
    "ssm": "state space model",
    "3dgs": "3d gaussian splatting",
    "icl": "in-context learning",
    "vqa": "visual question answering",
}
