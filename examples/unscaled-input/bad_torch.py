"""PyTorch CIFAR-10 pipeline whose transform makes uint8 tensors (PILToTensor) that are never
scaled: the CNN sees 0..255 inputs (GL501)."""
import torch
import torch.nn as nn
import torchvision
from torchvision import transforms

train_transform = transforms.Compose([
    transforms.RandomCrop(32, padding=4),
    transforms.RandomHorizontalFlip(),
    transforms.PILToTensor(),
])
train_set = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=train_transform)
loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


model = SmallCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
for epoch in range(10):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images.float()), labels)
        loss.backward()
        optimizer.step()
