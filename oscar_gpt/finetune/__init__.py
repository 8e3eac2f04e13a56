"""Fine-tuning on the shop's own reviewed copy and answers.

* :mod:`.export`: reviewed pairs (product facts -> approved or human-written copy, question +
  evidence -> staff or published answer), scrubbed, deduplicated, split by product, written
  as OpenAI chat JSONL and as the local trainer's JSONL, with a summary of counts, tokens
  and the hosted fine-tune's estimated cost.
* :mod:`.trainer`: transformers' Trainer on the chat template, loss on the assistant's tokens
  only; full fine-tuning or LoRA; checkpoints; before/after validation loss.
* :mod:`.evaluation`: copy generated for the validation products by two backends, side by
  side: the claims check's clean share, length and keyword use.
* :mod:`.hosted`: OpenAI's fine-tuning API through the official client.
* :mod:`.service`: what every door (command, dashboard, task) calls.
* :mod:`.registry`: fine-tuned models as backend aliases.
"""
