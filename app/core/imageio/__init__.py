"""Reading photo files: decoding to RGB the way a person sees it, and JPEG through libjpeg-turbo."""
