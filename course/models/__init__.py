"""Models and the algorithms around them: linear models, language models, seq2seq, pointer networks,
decoding."""
