"""The parts of SageMaker's inference toolkit (sagemaker-inference) that inference scripts import.

Kennel's model server puts this package on sys.path after everything else, so a real
sagemaker-inference, where it is installed, is the one imported. Only what scripts use is here:
errors, content_types, and the decoder and encoder that the default input_fn and output_fn use.
"""
