package credfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"awsflow-sts/sidecar/internal/credfile"
)

func ExampleWriteProfile() {
	dir, err := os.MkdirTemp("", "credfile-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "credentials")
	before := "# long-term keys, kept as they are\n" +
		"[default]\n" +
		"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n" +
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n" +
		"\n" +
		"[dev]\n" +
		"region = eu-west-1\n" +
		"aws_access_key_id = ASIAOLDSESSION000000\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	res, err := credfile.WriteProfile(credfile.Options{Path: path, Profile: "dev"}, credfile.Credentials{
		AccessKeyID:     "ASIAY34FZKBOKMUTVV7A",
		SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
		SessionToken:    "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
		Expiration:      time.Now().Add(time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	after, err := os.ReadFile(res.Path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(after))
	fmt.Println("created:", res.Created, "backup:", filepath.Base(res.Backup))
	// Output:
	// # long-term keys, kept as they are
	// [default]
	// aws_access_key_id = AKIAIOSFODNN7EXAMPLE
	// aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
	//
	// [dev]
	// region = eu-west-1
	// aws_access_key_id = ASIAY34FZKBOKMUTVV7A
	// aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
	// aws_session_token = IQoJb3JpZ2luX2VjEXAMPLETOKEN
	// created: false backup: credentials.bak
}
