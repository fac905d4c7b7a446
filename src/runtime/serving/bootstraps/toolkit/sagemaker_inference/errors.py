"""The toolkit's exceptions. A BaseInferenceToolkitError answers with its status_code; any other exception with 500."""


class UnsupportedFormatError(Exception):
    """A content type the decoder or encoder cannot handle (answered 500, as the toolkit's transformer does)."""

    def __init__(self, content_type, **kwargs):
        self._message = (
            "Content type %s is not supported by this framework.\n\n"
            "Please implement input_fn to to deserialize the request data or an output_fn to\n"
            "serialize the response. For more information, see the SageMaker Python SDK README." % content_type
        )
        super().__init__(self._message, **kwargs)


class BaseInferenceToolkitError(Exception):
    """An error the model server answers with `status_code` and `message`."""

    def __init__(self, status_code, message, phrase):
        self.status_code = status_code
        self.message = message
        self.phrase = phrase
        super().__init__(status_code, message, phrase)


class GenericInferenceToolkitError(BaseInferenceToolkitError):
    def __init__(self, status_code, message=None, phrase=None):
        message = message or "Invalid Request"
        super().__init__(status_code, message, phrase or message)
