"""The Info.plist keys of PhotoSearch.app (read by packaging/pyinstaller/photosearch.spec).

Kept apart from the spec so that a test can build and check the plist without macOS or PyInstaller.
"""

from __future__ import annotations

BUNDLE_ID = "org.photosearch.PhotoSearch"
_WHY = "PhotoSearch indexes the photos in the folders you choose, on this Mac only."


def info_plist(version: str, executable: str) -> dict[str, object]:
    return {
        "CFBundleName": "PhotoSearch",
        "CFBundleDisplayName": "PhotoSearch",
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleExecutable": executable,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundleIconFile": "photosearch.icns",
        "LSMinimumSystemVersion": "12.0",  # torch 2.14's arm64 wheels need macOS 12 or newer
        "LSArchitecturePriority": ["arm64"],
        "LSApplicationCategoryType": "public.app-category.photography",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follows dark mode
        "NSHumanReadableCopyright": "MIT licence",
        # Folders macOS guards: reading photos there makes it ask the user, showing these strings.
        "NSPhotoLibraryUsageDescription": _WHY,
        "NSDesktopFolderUsageDescription": _WHY,
        "NSDocumentsFolderUsageDescription": _WHY,
        "NSDownloadsFolderUsageDescription": _WHY,
        "NSRemovableVolumesUsageDescription": _WHY,
        "NSNetworkVolumesUsageDescription": _WHY,
    }
