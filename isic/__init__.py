"""The ISIC 2018 data as training, evaluation and the conversion gate all read it, with no
deep-learning framework: the official folder layout and splits (data), the standard evaluation
sets (sets), batched scoring with the ISIC metrics and its reports (scoring, figures), and the
hard-cases set made from the held-out ids (hard_cases)."""
