"""Models and the algorithms around them: linear models, the two-layer net, the digits CNN, language
models, seq2seq, pointer networks, decoding, autoencoders, adversarial examples, linear regions."""
