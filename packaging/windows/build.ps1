# Builds the Windows release: dist\PhotoSearch\ (PhotoSearchApp.exe without a console, photosearch.exe
# with one) and dist\PhotoSearch-<version>-windows-x64-setup.exe (Inno Setup 6, per-user).
# Usage (PowerShell, from anywhere): packaging\windows\build.ps1
# Needs: Python 3.11 as `python` (or $env:PYTHON), Inno Setup 6 (iscc on PATH or in its default folder).
# The registry's Windows torch 2.14.1 is the CPU build, so the bundle carries no CUDA.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$python = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$version = (Select-String -Path photosearch\__init__.py -Pattern '^__version__ = "(.+)"').Matches[0].Groups[1].Value
$venv = "build\windows\venv"
$started = Get-Date
function Step($what) { Write-Host ("== build.ps1 [{0:n0}s] {1}" -f ((Get-Date) - $started).TotalSeconds, $what) }
function Check { if ($LASTEXITCODE -ne 0) { throw "build.ps1: the last step failed ($LASTEXITCODE)" } }

Step "venv $venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { & $python -m venv $venv; Check }
& "$venv\Scripts\python.exe" -m pip install -q "torch==2.14.1" "torchvision==0.29.1" "pyinstaller==6.22.0" .; Check
# cv2 without its GUI parts (opencv-python, which rapidocr requires, brings Qt 5): see packaging/linux/build.sh.
& "$venv\Scripts\python.exe" -m pip uninstall -q -y opencv-python opencv-python-headless; Check
& "$venv\Scripts\python.exe" -m pip install -q "opencv-python-headless==5.0.0.93"; Check

Step "icons from resources\photosearch.svg"
$env:QT_QPA_PLATFORM = "offscreen"
& "$venv\Scripts\python.exe" packaging\make_icons.py build\icons; Check
Remove-Item Env:\QT_QPA_PLATFORM

Step "PyInstaller"
if (Test-Path dist\PhotoSearch) { Remove-Item -Recurse -Force dist\PhotoSearch }
& "$venv\Scripts\pyinstaller.exe" --noconfirm --clean --log-level WARN --distpath dist `
  --workpath build\windows\pyinstaller packaging\pyinstaller\photosearch.spec; Check
& dist\PhotoSearch\photosearch.exe --version; Check

Step "Inno Setup"
$iscc = (Get-Command iscc -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
$env:PHOTOSEARCH_VERSION = $version
& $iscc /Q packaging\windows\photosearch.iss; Check

Step "sizes"
$folder = (Get-ChildItem -Recurse -File dist\PhotoSearch | Measure-Object -Sum Length).Sum
Write-Host ("dist\PhotoSearch: {0:n2} GB" -f ($folder / 1e9))
Get-ChildItem dist\*.exe | ForEach-Object { Write-Host ("{0}: {1:n2} GB" -f $_.Name, ($_.Length / 1e9)) }
Step "done"
