"""`tfds.testing.DatasetBuilderTestCase` for builders that read a manual download.

Imported on its own (not by `keras_suite.testing`), since `tfds.testing` needs the `dev` extra.
"""

import tempfile

import tensorflow_datasets as tfds


class ManualDownloadTestCase(tfds.testing.DatasetBuilderTestCase):
    """Runs TFDS's builder checks on files that `write_manual_download` writes for the class.

    Subclasses set TFDS's `DATASET_CLASS`, `SPLITS`, ... and implement
    `write_manual_download(folder)`, which writes small files in the real formats into the
    folder used as `EXAMPLE_DIR` (the builder's `manual_dir`). Import the module, not the class,
    into a test file, so that pytest does not collect the base class itself:

    ```python
    from keras_suite.testing import manual_download_test_case


    class ScannetBuilderTest(manual_download_test_case.ManualDownloadTestCase):
        DATASET_CLASS = Scannet
        SPLITS = {"train": 1, "validation": 1}

        @staticmethod
        def write_manual_download(folder):
            write_download(folder)
    ```
    """

    @staticmethod
    def write_manual_download(folder):
        raise NotImplementedError("Subclasses write their example files into `folder`.")

    @classmethod
    def setUpClass(cls):
        cls._example_dir = tempfile.TemporaryDirectory()
        cls.EXAMPLE_DIR = cls._example_dir.name
        cls.write_manual_download(cls.EXAMPLE_DIR)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._example_dir.cleanup()
