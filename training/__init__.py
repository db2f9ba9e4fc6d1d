"""The training pipeline: data, stages (pretrain, teacher, distill, finetune), evaluation and
ONNX export. Run it as ``python -m training <command>``."""
