package protocolgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ModelPath is where the model lives, relative to the repository root.
const ModelPath = "protocol/model.json"

// PackageJSONPath is the extension manifest, whose languageModelTools block is generated.
const PackageJSONPath = "package.json"

// Files renders every generated file from the model, keyed by path relative to the repository
// root; packageJSON is the current manifest, of which only the tool block is replaced.
func Files(model, packageJSON []byte) (map[string][]byte, error) {
	m, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	vscode, mcpModel := m.forFrontend(FrontendVSCode), m.forFrontend(FrontendMCP)
	schemaJSON, err := marshalIndent(vscode.InputSchema())
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	goSrc, err := m.goFile()
	if err != nil {
		return nil, err
	}
	rulesGo, err := m.rulesGoFile()
	if err != nil {
		return nil, err
	}
	goFiles, err := m.goFiles()
	if err != nil {
		return nil, err
	}
	mcpSchema, err := marshalIndent(mcpModel.InputSchema())
	if err != nil {
		return nil, fmt.Errorf("MCP input schema: %w", err)
	}
	mcpGo, err := m.mcpGoFile(mcpSchema)
	if err != nil {
		return nil, err
	}
	pkg, err := vscode.packageJSON(packageJSON)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		PackageJSONPath:                             pkg,
		"protocol/tool-input-schema.json":           schemaJSON,
		"sidecar/internal/protocol/protocol_gen.go": goSrc,
		RulesGoPath:                     rulesGo,
		"extension/src/protocol.gen.ts": append(vscode.tsFile(), '\n'),
		MCPSchemaPath:                   mcpSchema,
		MCPGoPath:                       mcpGo,
	}
	for path, src := range goFiles {
		files[path] = src
	}
	return files, nil
}

// Stale lists the generated files under root that differ from what the model says, with a diff
// hint for each; it is empty when everything is current.
func Stale(root string) ([]string, error) {
	files, err := generateFrom(root)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, path := range sortedKeys(files) {
		have, err := os.ReadFile(filepath.Join(root, path))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if !bytes.Equal(have, files[path]) {
			stale = append(stale, path+"\n"+lineDiff(string(have), string(files[path])))
		}
	}
	return stale, nil
}

// Write regenerates every file under root.
func Write(root string) error {
	files, err := generateFrom(root)
	if err != nil {
		return err
	}
	for _, path := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(root, path), files[path], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func generateFrom(root string) (map[string][]byte, error) {
	model, err := os.ReadFile(filepath.Join(root, ModelPath))
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	pkg, err := os.ReadFile(filepath.Join(root, PackageJSONPath))
	if err != nil {
		return nil, fmt.Errorf("read package.json: %w", err)
	}
	files, err := Files(model, pkg)
	if err != nil {
		return nil, err
	}
	docs := make(map[string][]byte, len(docBlocks))
	for path := range docBlocks {
		text, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		docs[path] = text
	}
	pages, err := DocFiles(model, files[PackageJSONPath], docs)
	if err != nil {
		return nil, err
	}
	for path, text := range pages {
		files[path] = text
	}
	return files, nil
}

// DocFiles renders the Markdown pages (README.md and the user page, given as docs keyed by path)
// with their generated tables replaced: the settings and palette commands from packageJSON (the
// generated one) and the JSON-RPC methods from the model.
func DocFiles(model, packageJSON []byte, docs map[string][]byte) (map[string][]byte, error) {
	m, err := ParseModel(model)
	if err != nil {
		return nil, err
	}
	return m.docFiles(packageJSON, docs)
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
