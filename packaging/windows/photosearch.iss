; Inno Setup 6 script: a per-user installer (no admin rights) for dist\PhotoSearch\ built by build.ps1.
; Build: set PHOTOSEARCH_VERSION (build.ps1 reads it from photosearch/__init__.py), then
;   iscc packaging\windows\photosearch.iss
; Output: dist\PhotoSearch-<version>-windows-x64-setup.exe
#define AppVersion GetEnv("PHOTOSEARCH_VERSION")
#if AppVersion == ""
  #error PHOTOSEARCH_VERSION is not set: run packaging\windows\build.ps1
#endif
#define Root "..\.."

[Setup]
AppId={{8C1F3E52-6B0D-4C8E-9E57-3D0B6F2A7C41}
AppName=PhotoSearch
AppVersion={#AppVersion}
AppVerName=PhotoSearch {#AppVersion}
AppPublisher=PhotoSearch developers
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\PhotoSearch
DefaultGroupName=PhotoSearch
DisableProgramGroupPage=yes
; Per user: installs under %LOCALAPPDATA%\Programs, Start menu and uninstaller for this user only.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=PhotoSearch-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\photosearch.ico
UninstallDisplayIcon={app}\PhotoSearchApp.exe
UninstallDisplayName=PhotoSearch
WizardStyle=modern
; torch's DLLs are large: lzma2 with a bounded dictionary keeps the build minutes, not hours.
Compression=lzma2/normal
SolidCompression=no
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the photosearch command to PATH (for this user)"; Flags: unchecked

[Files]
Source: "{#Root}\dist\PhotoSearch\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\PhotoSearch"; Filename: "{app}\PhotoSearchApp.exe"; Comment: "Find your photos by what they show"
Name: "{autodesktop}\PhotoSearch"; Filename: "{app}\PhotoSearchApp.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
  Tasks: addtopath; Check: NotOnPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\PhotoSearchApp.exe"; Description: "{cm:LaunchProgram,PhotoSearch}"; Flags: nowait postinstall skipifsilent

[Code]
function NotOnPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    Path := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Path, Dir: string;
  At: Integer;
begin
  { Take the install folder back out of the user's PATH if the installer put it there. }
  if CurUninstallStep <> usPostUninstall then
    exit;
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    exit;
  Dir := ';' + ExpandConstant('{app}');
  At := Pos(Uppercase(Dir), Uppercase(Path));
  if At > 0 then
  begin
    Delete(Path, At, Length(Dir));
    RegWriteExpandStringValue(HKCU, 'Environment', 'Path', Path);
  end;
end;
