"""What the PyInstaller bundle leaves out or slims: rules the spec applies to the analysed binaries and
tests/test_packaging.py checks without a build. Every rule matches a file's base name."""

from __future__ import annotations

import re
from pathlib import Path

# CUDA libraries torch only dlopens for features the app never uses: linear-algebra solvers, profiler
# counters, the alternative NVRTC, and cuDNN's engines (921 MB; launch.py switches cuDNN off, so torch's
# own CUDA kernels run the models' one convolution). libcudnn.so.9 itself stays: libtorch_cuda names it.
# Everything a DT_NEEDED entry of libtorch_cuda / libtorch_python names stays, so `import torch` works.
CUDA_ON_DEMAND = re.compile(
    r"^(libcusolver(Mg)?\.so|libtorch_cuda_linalg\.so|libnvperf_(host|target)\.so|libnvrtc\.alt\.so"
    r"|libpcsamplingutil\.so|libcheckpoint\.so|libnvblas\.so"
    r"|libcudnn_(adv|cnn|engines_\w+|ext|graph|heuristic|ops)\.so)"
)

# OpenVINO: the app converts its own ONNX export to IR and runs the IR on the CPU. Traced with
# LD_DEBUG=libs, convert_model + compile_model("CPU") + infer load libopenvino, the CPU plugin, the ONNX
# and IR frontends, TBB and hwloc, and nothing else once the rest is gone (convert_model probes every
# frontend it finds; the missing ones answer ImportError). Left out: the GPU and NPU plugins, the
# multi-device ones (AUTO, BATCH, HETERO) and the TensorFlow / TF Lite / PyTorch / Paddle / JAX / GGUF
# frontends with their Python bindings (py_*_frontend links its frontend, so both must go): 71 MB.
OPENVINO_UNUSED = re.compile(
    r"^(libopenvino_(intel_gpu|intel_npu|auto|auto_batch|hetero)_plugin\.so"
    r"|libopenvino_(tensorflow|tensorflow_lite|pytorch|paddle|jax|gguf)_frontend\.so"
    r"|py_(tensorflow|pytorch|paddle|jax)_frontend\.)"
)

# Build tools torch ships that the app never runs (protoc, the Protocol Buffers compiler, twice: 11 MB).
UNUSED_TOOLS = re.compile(r"^protoc(-[0-9.]+)?$")

# torch's and NCCL's libraries ship with their static symbol tables (.symtab), which only debuggers and
# profilers read: the dynamic loader uses .dynsym, which `strip --strip-unneeded` keeps (libtorch_cuda
# -77 MB, libtorch_cpu -90 MB, libnccl -49 MB, libtorch_python -10 MB). Only these, by name: stripping
# every binary that has a .symtab broke numpy's auditwheel-patched OpenBLAS ("ELF load command
# address/offset not page-aligned"), as binutils does to files patchelf has rewritten.
UNSTRIPPED = frozenset(
    {"libtorch_cuda.so", "libtorch_cpu.so", "libtorch_python.so", "libnccl.so.2", "libnvshmem_host.so.3"}
)
STRIP_COMMAND = ("strip", "--strip-unneeded")
_SHT_SYMTAB = 2


def has_symtab(path: str | Path) -> bool:
    """True for a 64-bit little-endian ELF file with a static symbol table."""
    with open(path, "rb") as file:
        header = file.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        section_offset = int.from_bytes(header[0x28:0x30], "little")
        entry_size = int.from_bytes(header[0x3A:0x3C], "little")
        for index in range(int.from_bytes(header[0x3C:0x3E], "little")):
            file.seek(section_offset + index * entry_size + 4)  # sh_type follows sh_name
            if int.from_bytes(file.read(4), "little") == _SHT_SYMTAB:
                return True
    return False


# Distributions the build venv must not hold: opencv-python (what rapidocr-onnxruntime requires) puts
# Qt 5, its plugins and X11 libraries inside cv2; the build scripts install opencv-python-headless, the
# same cv2 without the GUI, which OCR never uses (opencv_python.libs 116 MB vs 81 MB, and no cv2/qt).
NOT_IN_BUILD = ("opencv-python",)


def left_out(name: str) -> bool:
    """True for a binary the bundle does not ship (name: the file's base name)."""
    return bool(CUDA_ON_DEMAND.search(name) or OPENVINO_UNUSED.search(name) or UNUSED_TOOLS.search(name))
